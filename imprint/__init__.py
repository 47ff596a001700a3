"""imprint: one Markdown manuscript with footnotes -> PDF, EPUB and print editions."""

__version__ = "0.1.0"
