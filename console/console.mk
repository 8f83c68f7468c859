# console/console.mk - the web files of the auditors' console
# (`jumpgate audit serve`; its C code is libconsole, built with the other
# libraries): the console's own stylesheet and script, and the asciinema
# player from npm (console/web/package.json, installed by make deps into
# console/web/node_modules), gathered in $(BUILD)/console/ for the
# console's --assets and for the package. Included by the Makefile.

CONSOLE_PLAYER := console/web/node_modules/asciinema-player/dist/bundle
CONSOLE_ASSETS := $(addprefix $(BUILD)/console/,console.css console.js \
                  asciinema-player.min.js asciinema-player.css)

PROGS += $(CONSOLE_ASSETS)

$(BUILD)/console/console.%: console/web/console.%
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/console/asciinema-player.%: $(CONSOLE_PLAYER)/asciinema-player.%
	@mkdir -p $(dir $@)
	cp $< $@

$(CONSOLE_PLAYER)/asciinema-player.min.js $(CONSOLE_PLAYER)/asciinema-player.css:
	@echo "jumpgate: $@ is missing: run 'make deps' (npm ci in console/web)" >&2
	@exit 2
