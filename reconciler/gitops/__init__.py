"""GitOps glue: the sticky plan comment, the drift issue, and which targets a change touches."""
