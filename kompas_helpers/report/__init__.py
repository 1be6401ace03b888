"""Report content for templates and pages: tables, texts, dialogue questions, method notes and their display."""
