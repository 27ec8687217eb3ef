"""The editors' screens under /admin: issues, subscribers, sources, topics, accounts, forms."""

from fastapi import APIRouter

from newsletter.web.admin import (
    account,
    assets,
    audience,
    auth,
    edit,
    editors,
    issues,
    sending,
    signup_forms,
    sources,
    subscriber_pages,
    topics,
    welcome,
)

router = APIRouter(prefix="/admin")
router.include_router(assets.router)
router.include_router(auth.router)
router.include_router(issues.router)
router.include_router(sending.router)
router.include_router(edit.router)
router.include_router(signup_forms.router)
router.include_router(welcome.router)
router.include_router(editors.router)
router.include_router(account.router)
router.include_router(sources.router)
router.include_router(topics.router)
router.include_router(subscriber_pages.router)
router.include_router(audience.router)
