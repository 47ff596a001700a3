"""Where the house's own files are: the package, its templates and styles (with the bundled
fonts), and the tools folder, all in the checkout imprint is installed from."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
TEMPLATES = ROOT / "templates"
STYLES = ROOT / "styles"
TOOLS = ROOT / "tools"
