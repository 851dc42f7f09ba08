"""The demo's accounts: the operator, store staff, distributors and consumers."""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from apps.accounts.models import User

from .world import DEMO_PASSWORD, DemoWorld


@dataclass(frozen=True)
class DemoUser:
    username: str
    nickname: str
    role: str


USERS = [
    DemoUser("admin", "平台运营", "platform operator (superuser): all stores, applications"),
    DemoUser("tea_admin", "茗香掌柜", "staff of 茗香茶庄 (demo-tea) in the admin"),
    DemoUser("fruit_admin", "鲜果园店长", "staff of 鲜果园 (demo-fruit) in the admin"),
    DemoUser("tea_d1", "茶友·林", "distributor, demo-tea, root of the chain"),
    DemoUser("tea_d2", "茶友·周", "distributor, demo-tea, invited by tea_d1"),
    DemoUser("tea_d3", "茶友·吴", "distributor, demo-tea, invited by tea_d2"),
    DemoUser("tea_d4", "茶友·郑", "distributor, demo-tea, invited by tea_d3"),
    DemoUser("fruit_d1", "果友·孙", "distributor, demo-fruit, root"),
    DemoUser("fruit_d2", "果友·钱", "distributor, demo-fruit, invited by fruit_d1"),
    DemoUser("alice", "爱丽丝", "consumer; bound to tea_d4 (demo-tea)"),
    DemoUser("bob", "小博", "consumer; bound to tea_d2 (demo-tea) and fruit_d1 (demo-fruit)"),
    DemoUser("carol", "可可", "consumer; bound to fruit_d2 (demo-fruit)"),
]
APPLICANT = DemoUser(
    "bakery_owner", "王芳", "merchant applicant, application pending review (no admin access yet)"
)


def create_users(world: DemoWorld) -> None:
    # One hash for the one shared demo password: hashing it per user only makes seeding slower.
    password = make_password(DEMO_PASSWORD)
    for demo in USERS:  # the application service creates the applicant's account
        if demo.username == "admin":
            existing = User.objects.filter(username="admin", is_superuser=True).first()
            if existing is not None:
                world.users["admin"] = existing
                continue
        world.users[demo.username] = User.objects.create(
            username=demo.username,
            email=f"{demo.username}@example.com",
            password=password,
            nickname=demo.nickname,
            is_staff=demo.username == "admin",
            is_superuser=demo.username == "admin",
        )
