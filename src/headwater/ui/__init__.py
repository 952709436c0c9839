"""The local web UI: ``headwater ui`` serves read-only pages about the runs in one datastore root.

Layout: :mod:`server` (HTTP), :mod:`routes` (URL -> page), :mod:`queries` (what a page reads
from the stores), :mod:`pages` (one module per page), :mod:`markup` (HTML escaped by default),
:mod:`layout` (the page shell, inline CSS and script), :mod:`graph_svg`, :mod:`timeline`,
:mod:`live` (status fingerprints for live pages). Value previews and the graph layout are
the cards' (:mod:`headwater.cards.preview`, :mod:`headwater.cards.graph_layout`).
"""
