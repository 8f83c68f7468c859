/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/watch.c - the libssh channel callbacks of both legs: data,
 * EOF and close wake the worker's loop; the target's exit status or
 * signal is kept for the client. */
#include "gateway/worker/internal.h"

static void
on_exit_status(ssh_session s, ssh_channel c, int status, void *arg)
{
    struct jg_gw_chan *ch = arg;

    ch->exit_status = status;
    ch->exit_status_set = true;
    ch->w->pending = true;
}


/* libssh reads packets inside ssh_channel_read_nonblocking() and the
 * flush of a write, so data, EOF or close for one stream or channel can
 * arrive while the relay reads another, after that one was looked at. The
 * worker then goes round once more instead of sleeping in poll() with the
 * bytes already in libssh's buffer (a keystroke held for a second). The
 * data stays where it is (0 bytes taken). */
static int
on_data(ssh_session s, ssh_channel c, void *data, uint32_t len, int is_stderr,
        void *arg)
{
    struct jg_gw_chan *ch = arg;

    ch->w->pending = true;
    return 0;
}


static void
on_eof_or_close(ssh_session s, ssh_channel c, void *arg)
{
    struct jg_gw_chan *ch = arg;

    ch->w->pending = true;
}


static void
on_close(ssh_session s, ssh_channel c, void *arg)
{
    struct jg_gw_chan *ch = arg;

    if (c == ch->c)
        ch->c_closed = true;
    ch->w->pending = true;
}


void
jg_gw_chan_watch(struct ssh_channel_callbacks_struct *cb)
{
    cb->channel_data_function = on_data;
    cb->channel_eof_function = on_eof_or_close;
    cb->channel_close_function = on_close;
}


static void
on_exit_signal(ssh_session s, ssh_channel c, const char *sig, int core,
               const char *errmsg, const char *lang, void *arg)
{
    struct jg_gw_chan *ch = arg;

    jg_strlcpy(ch->exit_signal, sig ? sig : "KILL", sizeof(ch->exit_signal));
    ch->core = core != 0;
    ch->exit_signal_set = true;
}


void
jg_gw_chan_watch_exit(struct ssh_channel_callbacks_struct *cb)
{
    cb->channel_exit_status_function = on_exit_status;
    cb->channel_exit_signal_function = on_exit_signal;
}
