"""The workflow engine: cases, transitions, guards, deadlines, hand-offs, users and roles."""
