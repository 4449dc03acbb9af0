"""The factory tool."""
