"""Trusted side: reading what the grader is given, with every size bounded. A submission file
(`submission`, `regular_files`), a notebook's cells as Python (`notebook`), and a class folder or an LMS
export (`discover`)."""
