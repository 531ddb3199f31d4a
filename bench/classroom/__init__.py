"""The parts of ``bench/load.py``: many Chromium sessions against one PoolScope server."""
