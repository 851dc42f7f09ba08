from typing import Any, ClassVar, Self

from django.db import models
from django.db.models.base import ModelBase

from .managers import TreeManager

class MPTTModelBase(ModelBase): ...

class MPTTModel(models.Model, metaclass=MPTTModelBase):
    objects: ClassVar[TreeManager[Self]]
    _tree_manager: ClassVar[TreeManager[Self]]
    _mptt_meta: ClassVar[Any]
    lft: int
    rght: int
    tree_id: int
    level: int
    def get_ancestors(
        self, ascending: bool = ..., include_self: bool = ...
    ) -> models.QuerySet[Self]: ...
    def get_descendants(self, include_self: bool = ...) -> models.QuerySet[Self]: ...
    def get_children(self) -> models.QuerySet[Self]: ...
    def is_root_node(self) -> bool: ...
    def is_leaf_node(self) -> bool: ...

TreeForeignKey = models.ForeignKey
