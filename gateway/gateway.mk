# gateway/gateway.mk - builds jumpgated, the SSH front door (included by the
# top-level Makefile). Its code lives in rooms by the process that runs it:
# daemon/ and proto/ (shared), master/, monitor/ and worker/. Each room's
# objects are built with JG_GW_ROOM_<ROOM> defined, which its own header
# requires and the others' headers refuse, so that a file that includes
# another room's internals does not build; tests/tools/check-rooms.sh
# checks the includes and the calls between files as well.

GW_SRCS := $(sort $(wildcard gateway/*/*.c))
GW_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(GW_SRCS))

$(BUILD)/gateway/master/%.o: CFLAGS += -DJG_GW_ROOM_MASTER
$(BUILD)/gateway/monitor/%.o: CFLAGS += -DJG_GW_ROOM_MONITOR
$(BUILD)/gateway/worker/%.o: CFLAGS += -DJG_GW_ROOM_WORKER

PROGS += $(BUILD)/jumpgated

$(BUILD)/jumpgated: $(GW_OBJS) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(GW_OBJS) $(LINKLIBS) $(PKG_LIBS) -lpam -lm
