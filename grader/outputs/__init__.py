"""Trusted side: everything the grader writes. The score JSON (`results`), the terminal report
(`terminal`), the class-level numbers and report (`class_summary`, `class_report`), the feedback pages
(`feedback/`) and the LMS gradebooks (`gradebook/`)."""
