"""The editors' screens under /admin: issues, subscribers, sources, topics, accounts, forms."""

from fastapi import APIRouter

from newsletter.web.admin import (
    account,
    api_tokens,
    assets,
    audience,
    auth,
    blocks,
    edit,
    editors,
    issues,
    reports,
    sending,
    sending_domain,
    signup_forms,
    sources,
    special,
    subscriber_pages,
    topics,
    webhooks,
    welcome,
)

router = APIRouter(prefix="/admin")
router.include_router(assets.router)
router.include_router(auth.router)
# Before issues: /issues/new is not an issue's number.
router.include_router(special.router)
router.include_router(issues.router)
router.include_router(sending.router)
router.include_router(edit.router)
router.include_router(signup_forms.router)
router.include_router(welcome.router)
router.include_router(editors.router)
router.include_router(account.router)
router.include_router(sources.router)
router.include_router(topics.router)
router.include_router(blocks.router)
router.include_router(subscriber_pages.router)
router.include_router(audience.router)
router.include_router(sending_domain.router)
router.include_router(api_tokens.router)
router.include_router(webhooks.router)
router.include_router(reports.router)
