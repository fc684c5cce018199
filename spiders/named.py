"""One named spider per site name (`scrapy crawl steam`, and each alias), made from the
sites found by discovery: each is `ReviewSpider` for that site and nothing more."""

from __future__ import annotations

from reviewhoard.sites import all_sites
from reviewhoard.spiders.review import ReviewSpider


def _spider_class(name: str, site_key: str) -> type[ReviewSpider]:
    title = "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
    attrs = {
        "name": name,
        "site_key": site_key,
        "__module__": __name__,
        "__doc__": f"Reviews from {all_sites()[site_key].name} (`scrapy crawl {name}`).",
    }
    return type(f"{title}Spider", (ReviewSpider,), attrs)


SPIDERS: dict[str, type[ReviewSpider]] = {
    name: _spider_class(name, site.key) for site in all_sites().values() for name in site.names
}
"""Every site name and its spider class."""

globals().update({cls.__name__: cls for cls in SPIDERS.values()})
