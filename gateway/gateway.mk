# gateway/gateway.mk - builds jumpgated, the SSH front door (included by the
# top-level Makefile; see DESIGN.md section 7).

GW_SRCS := $(sort $(wildcard gateway/*.c))
GW_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(GW_SRCS))

PROGS += $(BUILD)/jumpgated

$(BUILD)/jumpgated: $(GW_OBJS) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(GW_OBJS) $(LINKLIBS) $(PKG_LIBS) -lpam -lm
