// Descriptor mailboxes: where kernel descriptors wait while they are in
// flight in a shunt message (docs/ARCHITECTURE.md, "Descriptor passing").
//
// A kernel descriptor can only outlive its sender inside a kernel object,
// and only the receiving side is sure to be alive when the message is read.
// So each process family (a process and the children it forks after its
// first socket) owns one mailbox: a kernel AF_UNIX datagram socket bound to
// an abstract name made of the arena's nonce and the mailbox id. Every
// SockState records the mailbox of the family that opened it
// (SockState::mailbox), and every process holding a descriptor of the
// socket holds that mailbox's descriptor:
//  - the creating family holds its own (fork inherits it);
//  - a shunt socket passed to a socket of another mailbox carries its
//    mailbox's descriptor in the same message, and the receiving process
//    keeps it while it holds such a socket (MailboxAdopt /
//    MailboxForgetIfUnused).
// A sender parks the kernel descriptors of one message in the receiving
// socket's mailbox with SCM_RIGHTS, tagged with the message's token; the
// receiver takes them back by token. Messages of several sockets share one
// mailbox and may be read in any order, so a search puts the messages it
// passes over back at the tail, and drops those whose arena message is gone.
// One arena lock (ArenaHeader::mailbox_lock) serialises sends and searches,
// so a search always has room to put back what it took.
//
// A message for this family's own mailbox whose receiving socket only this
// process can reach may instead be kept inside the process (MailboxParkLocal):
// its descriptors are duplicates numbered from a high base, and fetching
// them is an fcntl, not two kernel SCM_RIGHTS trips. Such messages move to
// the kernel mailbox (MailboxShareLocal) before anything lets another
// process reach a socket: a fork (this module's pthread_atfork handler), and
// the passing of a socket (net/scm.cc: ScmAttach). MailboxFetch finds a
// message wherever it waits.
#pragma once

#include <stdint.h>

#include "arena/arena.h"

namespace shunt {

// Names the arena message a mailbox message belongs to (net/scm.h).
struct MailboxToken {
  Off block;
  uint64_t serial;
};

// The id of this process family's mailbox, created on first use; 0 with
// *err set if it cannot be created.
uint64_t OwnMailbox(Arena* a, int* err);
// This process's descriptor of mailbox `id`, or -1 if it holds none.
int MailboxFd(uint64_t id);
// Keeps fd, a descriptor of mailbox `id` received with a passed socket
// (closed if this process already holds one).
void MailboxAdopt(uint64_t id, int fd);
// Closes this process's descriptor of a foreign mailbox once none of its
// shunt descriptors belongs to a socket of that mailbox. Takes the
// descriptor table's lock: never call it with that lock held.
void MailboxForgetIfUnused(Arena* a, uint64_t id);

// fork(), from the descriptor layer's handlers (fd/fd_table.cc): the
// prepare step moves messages kept in the process to the kernel mailbox
// and holds the module's lock until the parent or child step; the child
// step drops the kept copies, which are the parent's. None changes errno
// on success (the parent's handler reads it).
void MailboxForkPrepare();
void MailboxForkParent();
void MailboxForkChild();

// Sends n kernel descriptors (n <= SCM_MAX_FD) tagged with t to mailbox id.
// A full mailbox (net.unix.max_dgram_qlen) is -EAGAIN if `nonblock`, else
// waited for. Returns 0 or a negative errno (EBADF for a bad descriptor).
int MailboxPark(Arena* a, uint64_t id, const MailboxToken& t, const int* fds,
                int n, bool nonblock);
// MailboxPark for this family's own mailbox `id` without a kernel trip: the
// n descriptors are duplicated (FD_CLOEXEC) at numbers from a high base and
// kept in this process until fetched or moved by MailboxShareLocal. The
// caller guarantees that no other process can reach the message and that
// this process is single-threaded. Returns 0, or a negative errno (then
// nothing was kept and the caller parks in the kernel mailbox instead).
int MailboxParkLocal(uint64_t id, const MailboxToken& t, const int* fds, int n);
// Moves every message kept by MailboxParkLocal to its kernel mailbox (to be
// called before a socket may reach another process). Returns 0, or a
// negative errno if one could not be moved (it stays in this process).
int MailboxShareLocal(Arena* a);
// Takes the descriptors tagged t out of mailbox id (which this process must
// hold) into fresh descriptors of this process (O_CLOEXEC if `cloexec`),
// in order: *n is set to their number. They are numbered as recvmsg numbers
// them: each gets the lowest free number (net/core/scm.c: scm_detach_fds,
// receive_fd). With `keep` a copy stays parked (MSG_PEEK). Returns 0, or
// -ENOENT if the message is not there.
int MailboxFetch(Arena* a, uint64_t id, const MailboxToken& t, bool cloexec,
                 bool keep, int* fds, int* n);

}  // namespace shunt
