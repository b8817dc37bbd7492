"""The Textual dashboard (`aitbc tui`). Screens arrive with the dashboard issue;
the package exists now so the install layout matches the design."""
