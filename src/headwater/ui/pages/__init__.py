"""One module per page; each renders a :class:`headwater.ui.layout.Page` from query results."""
