/*
 * config_site.h for attendant's own pjsua2 build (pjproject 2.17).
 *
 * scripts/build-pjsua2.sh copies this file to pjlib/include/pj/config_site.h
 * before configuring pjproject. Its SHA-256 is part of the wheel cache key, so
 * any edit here triggers a rebuild on the next run of the script.
 *
 * Why: the stock limits (4 calls, 32 players/recorders, 254 conference ports,
 * 64 ioqueue handles) are sized for a softphone. An auto-attendant answers
 * many calls at once and plays a prompt (and maybe records) on each of them.
 *
 * Every macro below is guarded with #ifndef in pjproject's own headers, so a
 * plain #define here wins. Values were checked against the 2.17 sources:
 *   pjsip/include/pjsua-lib/pjsua.h, pjlib/include/pj/config.h,
 *   pjsip/include/pjsip/sip_config.h, pjsip/src/pjsua-lib/pjsua_{call,media}.c
 *
 * Runtime notes:
 *   - PJSUA_MAX_CALLS is a ceiling: pjsua allocates the call array from
 *     UaConfig.maxCalls (clamped to this), so a small maxCalls costs nothing.
 *   - The process needs an open-file limit (ulimit -n) well above the number
 *     of sockets in use: 2 per media stream (RTP + RTCP), i.e. 4 per call
 *     with 2.17's default audio + text streams, 2 with textCount=0.
 *   - Keep PJSUA_MAX_CALLS * 10 below 65536: pjsua_media.c narrows that product
 *     to a 16-bit port range when ICE is used with a fixed RTP port.
 */
#ifndef ATTENDANT_PJ_CONFIG_SITE_H
#define ATTENDANT_PJ_CONFIG_SITE_H

/* ---- pjsua: calls, accounts, media ports -------------------------------- */

/* Concurrent calls the library can hold (default 4). */
#define PJSUA_MAX_CALLS             1024

/* SIP accounts/trunks (default 8). pjsua keeps a fixed array of these and a
 * few stack arrays sized by it, so stay modest. */
#define PJSUA_MAX_ACC               32

/* File players (default 32): one prompt per call plus headroom for a second
 * player per call while switching prompts or playing a playlist. */
#define PJSUA_MAX_PLAYERS           2048

/* File recorders (default 32): one voicemail/recording per call. */
#define PJSUA_MAX_RECORDERS         1024

/* Conference bridge slots (default 254). Every call's audio stream, every
 * player and every recorder takes a slot, plus a few for the (null) sound
 * device and tone generators. Unused slots cost a pointer each; the bridge
 * only iterates over ports in use. */
#define PJSUA_MAX_CONF_PORTS        (PJSUA_MAX_CALLS + PJSUA_MAX_PLAYERS + \
                                     PJSUA_MAX_RECORDERS + 32)

/* ---- pjlib: sockets ------------------------------------------------------ */

/* Sockets one ioqueue can watch (default 64). pjsua gives SIP and media one
 * ioqueue each (MediaConfig.hasIoqueue, default on), both of this size, and
 * PJSIP_MAX_TRANSPORTS defaults to it. Media needs 2 sockets (RTP + RTCP) per
 * stream, and 2.17's default CallSetting has textCount=1 (real-time text) on
 * top of audioCount=1: 4 sockets per call, so 1024 calls fill exactly 4096
 * (measured). 8192 leaves room; setting textCount=0 on calls halves the use.
 * The build uses --enable-epoll, so this is not bounded by FD_SETSIZE. It also
 * sizes pj_fd_set_t (8 bytes per handle, sometimes on the stack), which is why
 * it is not larger still. */
#define PJ_IOQUEUE_MAX_HANDLES      8192

/* ---- pjsip: transaction and dialog tables -------------------------------- */

/* These size hash tables, they are not hard caps (2.17 never compares the
 * count against them), but too small a table means long bucket chains on
 * every incoming message. Defaults: 1023 transactions, 511 dialogs.
 * Each call has 1-3 live transactions, and finished ones linger for
 * timer D/K (up to 32 s over UDP). Values of the form 2^n-1 are used as is. */
#define PJSIP_MAX_TSX_COUNT         (8 * 1024 - 1)
#define PJSIP_MAX_DIALOG_COUNT      (2 * 1024 - 1)

/* Transport hash table (default 31): one entry per TCP/TLS connection. */
#define PJSIP_TPMGR_HTABLE_SIZE     1023

#endif /* ATTENDANT_PJ_CONFIG_SITE_H */
