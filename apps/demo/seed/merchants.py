"""The demo's two stores and a merchant application waiting for the operator's review."""

from apps.accounts.models import User
from apps.merchants.services import merchant_application_submit, merchant_create

from .people import APPLICANT
from .world import DEMO_PASSWORD, FRUIT, TEA, DemoWorld

APPLICATION_SLUG = "demo-bakery"
STORES = [
    (TEA, "茗香茶庄", "tea_admin", "杭州龙井村自有茶园直供：龙井、乌龙、普洱、白茶与茶具。"),
    (FRUIT, "鲜果园", "fruit_admin", "产地直发的当季水果，坏果包赔。"),
]
STORE_STAFF = {slug: staff for slug, _name, staff, _description in STORES}


def create_stores(world: DemoWorld) -> None:
    for slug, name, owner, description in STORES:
        merchant = merchant_create(name=name, slug=slug, owner=world.users[owner])
        merchant.description = description
        merchant.contact_email = f"{owner}@example.com"
        merchant.save(update_fields=["description", "contact_email"])
        world.merchants[slug] = merchant


def submit_application(world: DemoWorld) -> None:
    application = merchant_application_submit(
        username=APPLICANT.username,
        password=DEMO_PASSWORD,
        store_name="麦香烘焙坊",
        slug=APPLICATION_SLUG,
        contact_name="王芳",
        contact_phone="13900001234",
        contact_email="bakery_owner@example.com",
        description="手工面包与节日蛋糕，同城当日配送。",
    )
    User.objects.filter(pk=application.applicant_id).update(nickname=APPLICANT.nickname)
