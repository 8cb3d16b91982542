"""Trusted side: what a failed part most likely is. The bank of known mistakes (`mistakes`), the
diagnosis that names one only when it reproduces the student (`diagnosis`), and the search of edits of
the reference rule behind the bank (`edits`)."""
