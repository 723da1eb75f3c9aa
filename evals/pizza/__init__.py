"""The order parser on the PIZZA benchmark (Arkoudas et al., arXiv 2212.00265): its EXR tree
notation, a menu built from its catalogs, entity-swapped variants and the scoring.

The benchmark's data is CC-BY-NC-4.0: it is read at run time from `$PIZZA_DIR` (default
`../shared/pizza` next to the repository) and never copied into it.
"""
