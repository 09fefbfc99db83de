"""One module per page, each a thin ``render()`` over the services."""
