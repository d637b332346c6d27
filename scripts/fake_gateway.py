"""A fake SMS/WhatsApp gateway for the Ventanilla demo: a small local HTTP server (standard library only).

    python3 scripts/fake_gateway.py --webhook http://127.0.0.1:8000/hooks/<key>/ --secret <secret>

then open http://127.0.0.1:8025/. With Ventanilla installed, `ventanilla fake-gateway` finds the demo
channels' webhooks and secret by itself. The server is `src/ventanilla/messaging/fake_gateway.py`, loaded
here by its path so that neither Django nor the package's dependencies are needed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent / "src" / "ventanilla" / "messaging" / "fake_gateway.py"

if __name__ == "__main__":
    spec = importlib.util.spec_from_file_location("fake_gateway", MODULE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fake_gateway"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    module.main()
