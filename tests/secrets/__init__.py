"""Suite 7: no secret in any artifact of a real session (issue 17)."""
