"""API of the hub's content: `public` (articles and alerts for everyone), `staff` (writing, review)."""

from ventanilla.hub.api.public import ARTICLE_KINDS, AlertViewSet, ArticleViewSet
from ventanilla.hub.api.staff import ContentItemViewSet

__all__ = ["ARTICLE_KINDS", "AlertViewSet", "ArticleViewSet", "ContentItemViewSet"]
