"""The editors' screens under /admin: sign-in, issues (preview, edit, test, approve), forms."""

from fastapi import APIRouter

from newsletter.web.admin import (
    assets,
    audience,
    auth,
    edit,
    issues,
    signup_forms,
    subscriber_pages,
    welcome,
)

router = APIRouter(prefix="/admin")
router.include_router(assets.router)
router.include_router(auth.router)
router.include_router(issues.router)
router.include_router(edit.router)
router.include_router(signup_forms.router)
router.include_router(welcome.router)
router.include_router(subscriber_pages.router)
router.include_router(audience.router)
