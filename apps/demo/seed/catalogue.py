"""The demo stores' products and SKUs (through the product services)."""

from decimal import Decimal

from apps.products.services import product_create, sku_create

from .world import FRUIT, TEA, DemoWorld

# store → [(product, description, [(sku name, sku code, price, stock)])]
CATALOGUE: dict[str, list[tuple[str, str, list[tuple[str, str, str, int]]]]] = {
    TEA: [
        (
            "西湖龙井·明前特级",
            "狮峰山核心产区，明前手工炒制，豆香馥郁。",
            [
                ("50g 罐装", "TEA-LJ-50", "128.00", 200),
                ("250g 礼盒", "TEA-LJ-250", "568.00", 60),
            ],
        ),
        (
            "安溪铁观音·清香型",
            "兰花香高扬，回甘持久，适合日常口粮。",
            [
                ("125g 袋装", "TEA-TGY-125", "88.00", 300),
                ("500g 罐装", "TEA-TGY-500", "298.00", 80),
            ],
        ),
        (
            "云南普洱熟茶饼 357g",
            "勐海古树料，渥堆发酵，汤色红浓。",
            [
                ("2016 年", "TEA-PE-2016", "238.00", 40),
                ("2019 年", "TEA-PE-2019", "168.00", 120),
            ],
        ),
        (
            "武夷山大红袍",
            "正岩产区，传统炭焙，岩韵明显。",
            [
                ("100g 罐装", "TEA-DHP-100", "158.00", 150),
            ],
        ),
        (
            "福鼎白茶·白牡丹",
            "一芽二叶，毫香蜜韵，可存可饮。",
            [
                ("100g 饼", "TEA-BMD-100", "98.00", 200),
                ("300g 礼盒", "TEA-BMD-300", "268.00", 50),
            ],
        ),
        (
            "汝窑功夫茶具套装",
            "一壶四杯一公道，开片温润，送礼佳品。",
            [
                ("天青色", "TEA-RY-TQ", "189.00", 30),
                ("月白色", "TEA-RY-YB", "189.00", 30),
                ("豆青色", "TEA-RY-DQ", "199.00", 20),
            ],
        ),
    ],
    FRUIT: [
        (
            "赣南脐橙",
            "江西赣州果园现摘，果肉脆甜多汁。",
            [
                ("5 斤装", "FR-QC-5", "39.90", 500),
                ("10 斤装", "FR-QC-10", "69.90", 300),
            ],
        ),
        (
            "阳光玫瑰青提",
            "云南产区，玫瑰香浓，无籽脆甜。",
            [
                ("2 斤装", "FR-YG-2", "59.90", 200),
            ],
        ),
        (
            "海南贵妃芒",
            "树上自然熟，香甜细腻。",
            [
                ("3 斤装", "FR-MG-3", "45.80", 250),
                ("5 斤装", "FR-MG-5", "69.80", 150),
            ],
        ),
        (
            "烟台红富士苹果",
            "栖霞山地果园，冰糖心。",
            [
                ("5 斤装", "FR-PG-5", "49.90", 400),
                ("10 斤装", "FR-PG-10", "88.00", 200),
            ],
        ),
        (
            "丹东 99 草莓",
            "冷链直发，个大饱满。",
            [
                ("1 斤装", "FR-CM-1", "79.00", 100),
                ("2 斤装", "FR-CM-2", "149.00", 60),
            ],
        ),
        (
            "四川爱媛果冻橙",
            "果肉如果冻般嫩滑，一剥即开。",
            [
                ("5 斤装", "FR-GD-5", "59.90", 300),
            ],
        ),
    ],
}


def create_catalogue(world: DemoWorld) -> None:
    for slug, products in CATALOGUE.items():
        merchant = world.merchants[slug]
        for position, (name, description, skus) in enumerate(products):
            product = product_create(
                merchant=merchant, name=name, description=description, sort_order=position
            )
            for sku_name, code, price, stock in skus:
                sku_create(
                    merchant=merchant,
                    product_id=product.pk,
                    name=sku_name,
                    code=code,
                    price=Decimal(price),
                    stock=stock,
                )
