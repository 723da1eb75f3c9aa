"""The store's menu as data: the catalog (items, options, prices in cents), opening hours and
menu files. Pure: no I/O besides reading a menu file; imports nothing else of orders."""
