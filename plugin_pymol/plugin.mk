# PyMOL plugin targets (included by the top Makefile).
# What PyMOL's wheel and Qt (offscreen and X11) load: the demo's rendering and the plugin's dialog need these.
PYMOL_APT_PACKAGES := libgl1 libglx0 libx11-6 libegl1 libfontconfig1 libdbus-1-3 libxkbcommon0 \
  libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
  libxcb-shape0 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1
# Only the real-window GUI tests (tests/pymol/test_pymol_gui.py) need an X server and a mouse driver.
PYMOL_GUI_TEST_APT_PACKAGES := xvfb xdotool x11-utils
PLUGIN_ZIP_DIR ?= dist

# The --report page's browser tests (tests/cli/test_report_browser.py): headless Chromium and its WebDriver.
REPORT_TEST_APT_PACKAGES := chromium chromium-driver

.PHONY: plugin pymol-sysdeps pymol-test-sysdeps report-test-sysdeps

# The Plugin-Manager archive, the core wheel inside (Plugin > Plugin Manager > Install New Plugin >
# Choose file...); prints the full path of the zip it wrote.
plugin:
	python3 plugin_pymol/build_zip.py $(PLUGIN_ZIP_DIR)

# Debian packages PyMOL's wheel and Qt need (make demo); pymol-test-sysdeps adds the Xvfb GUI tests'.
# Only missing ones are installed, and each install is announced with the packages it adds.
pymol-sysdeps: APT_PACKAGES = $(PYMOL_APT_PACKAGES)
pymol-test-sysdeps: APT_PACKAGES = $(PYMOL_APT_PACKAGES) $(PYMOL_GUI_TEST_APT_PACKAGES)
report-test-sysdeps: APT_PACKAGES = $(REPORT_TEST_APT_PACKAGES)
pymol-sysdeps pymol-test-sysdeps report-test-sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install:$$missing (Debian/Ubuntu package names)"; fi; fi
