// Garbage cycles of sockets in flight (net/unix/garbage.c: unix_gc).
//
// A socket passed in a message holds a reference on itself through its
// file while the message waits. If the message waits in the socket's own
// queue, or in the queue of another socket that is itself only in flight
// (a cycle), no descriptor can ever read it, and reference counting alone
// would keep them forever. The kernel finds such groups by graph search
// when a file's last ordinary reference goes; so does this file, in the
// same spirit: starting from the file that just lost its last descriptor,
// it gathers the files that only messages keep alive ("candidates") and
// that are reachable through queued messages, and counts how many of each
// one's references those candidates' queues hold. If every candidate's
// references are all accounted for inside the group, nothing outside can
// reach any of it: their queues are purged, which drops the group's last
// references and releases it (unix_release_sock). If some candidate is held
// from outside the group, it is alive, and so is the rest, as far as this
// search can tell: nothing is freed (a later release retries).
#include <vector>

#include "net/scm.h"
#include "net/sock.h"

namespace shunt {
namespace {

// Bounds one search; a larger group is left alone (never freed wrongly).
constexpr size_t kMaxGroup = 4096;

bool IsCandidate(const OpenFile* f) {
  const uint32_t inflight = f->inflight.load(std::memory_order_acquire);
  return inflight != 0 && f->refs.load(std::memory_order_acquire) == inflight;
}

struct Member {
  OpenFile* file;
  uint32_t internal;  // references held by the group's queues
};

// Counts the references that sk's queued messages hold on shunt files,
// adding new candidates to the group. False if the group grew too large.
bool ScanQueue(Arena* a, SockState* sk, std::vector<Member>* group) {
  MutexLock lock(&sk->lock);
  for (uint32_t i = sk->rq.seg_head; i != sk->rq.seg_tail; ++i) {
    const Segment* seg = sk->rq.At(a, i);
    if (seg == nullptr) break;
    ScmBlock* b = a->Ptr<ScmBlock>(seg->scm);
    if (b == nullptr ||
        a->Bytes(seg->scm, sizeof(ScmBlock) +
                               size_t{b->count} * sizeof(ScmEntry)) == nullptr)
      continue;
    const ScmEntry* e = b->entries();
    for (uint32_t k = 0; k < b->count; ++k) {
      if (e[k].kind != ScmKind::kShunt) continue;
      OpenFile* f = a->Ptr<OpenFile>(e[k].value);
      if (f == nullptr) continue;
      bool known = false;
      for (Member& m : *group) {
        if (m.file == f) {
          ++m.internal;
          known = true;
          break;
        }
      }
      if (known || !IsCandidate(f)) continue;
      if (group->size() == kMaxGroup) return false;
      group->push_back(Member{f, 1});
    }
  }
  return true;
}

}  // namespace

void CollectCycles(Arena* a, OpenFile* start) {
  std::vector<Member> group;
  {
    MutexLock gc(&a->header()->gc_lock);
    if (!IsCandidate(start)) return;
    group.push_back(Member{start, 0});
    for (size_t i = 0; i < group.size(); ++i) {
      SockState* sk = a->Ptr<SockState>(group[i].file->sock);
      if (sk == nullptr || !ScanQueue(a, sk, &group)) return;
    }
    for (const Member& m : group) {
      if (!IsCandidate(m.file) ||
          m.internal != m.file->refs.load(std::memory_order_acquire))
        return;
    }
    // Garbage. Each member is kept valid by a reference of ours while the
    // queues are purged (the purge drops the group's own references).
    for (const Member& m : group) FileGet(m.file);
  }
  std::vector<RecvQueue> queues;
  for (const Member& m : group) {
    SockState* sk = a->Ptr<SockState>(m.file->sock);
    MutexLock lock(&sk->lock);
    queues.push_back(DetachQueue(sk));
    SockChanged(a, sk);
  }
  for (RecvQueue& q : queues) DropQueue(a, &q);
  for (const Member& m : group) FilePut(a, m.file);
}

}  // namespace shunt
