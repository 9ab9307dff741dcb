"""The dashboard in Debian's headless Chromium, driven by Selenium (docs/dashboard.md)."""
