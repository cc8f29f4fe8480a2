// Copies to and from caller-supplied memory that may be unmapped, as the
// kernel's copy_to_user/copy_from_user do: a bad address yields EFAULT
// instead of a crash.
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" size_t shunt_copy_user(void* dst, const void* src, size_t n);

namespace shunt {

// Installs the fault handler that makes CopyUser recoverable. Idempotent;
// called when the arena is first attached. A fault anywhere else is passed
// to the handler that was installed before (or the default action).
void InstallUserCopyFaultHandler();

// One entry of the table of inline copies (section shunt_copy_fixups): a
// fault at an instruction in [begin, end) resumes at fixup. Each field is
// an offset from its own address, so the table needs no relocation.
struct UserCopyFixup {
  int32_t begin;
  int32_t end;
  int32_t fixup;
};

// The fixup table entry of an inline copy whose moves lie between its
// labels 1 and 2: a fault there resumes at the C label `fault`.
#define SHUNT_COPY_FIXUP_ENTRY               \
  "2:\n\t"                                   \
  ".pushsection shunt_copy_fixups,\"a\"\n\t" \
  ".balign 4\n\t"                            \
  ".long 1b - ., 2b - ., %l[fault] - .\n\t"  \
  ".popsection"

// Marks a lambda that holds an inline copy (CopyUser) in an inline
// function: it must be inlined wherever it is called, since an out-of-line
// copy of it would be a COMDAT function, which the linker may discard under
// its fixup-table entries.
#define SHUNT_INLINE_COPY_LAMBDA __attribute__((always_inline))

// Copies n bytes; returns true when all were copied, false on a fault (some
// of them may have been copied). From 16 to 64 bytes, the common small
// message, the copy is inline: two or four overlapping 16-byte moves from
// both ends, with an entry in the fixup table, so the caller saves no
// registers for a call. So are copies of a constant 4 or 8 bytes (the
// lengths and flags of msghdr and friends): one move through r11.
[[gnu::always_inline]] inline bool CopyUser(void* dst, const void* src,
                                            size_t n) {
  if (__builtin_constant_p(n) && n == 8) {
    asm goto(
        "1:\tmovq (%1), %%r11\n\t"
        "movq %%r11, (%0)\n" SHUNT_COPY_FIXUP_ENTRY
        :
        : "r"(dst), "r"(src)
        : "r11", "memory"
        : fault);
    return true;
  }
  if (__builtin_constant_p(n) && n == 4) {
    asm goto(
        "1:\tmovl (%1), %%r11d\n\t"
        "movl %%r11d, (%0)\n" SHUNT_COPY_FIXUP_ENTRY
        :
        : "r"(dst), "r"(src)
        : "r11", "memory"
        : fault);
    return true;
  }
  if (n - 16 > 48) return shunt_copy_user(dst, src, n) == 0;
  if (n <= 32) {
    asm goto(
        "1:\tmovdqu (%1), %%xmm0\n\t"
        "movdqu -16(%1,%2), %%xmm1\n\t"
        "movdqu %%xmm0, (%0)\n\t"
        "movdqu %%xmm1, -16(%0,%2)\n" SHUNT_COPY_FIXUP_ENTRY
        :
        : "r"(dst), "r"(src), "r"(n)
        : "xmm0", "xmm1", "memory"
        : fault);
  } else {
    asm goto(
        "1:\tmovdqu (%1), %%xmm0\n\t"
        "movdqu 16(%1), %%xmm1\n\t"
        "movdqu -32(%1,%2), %%xmm2\n\t"
        "movdqu -16(%1,%2), %%xmm3\n\t"
        "movdqu %%xmm0, (%0)\n\t"
        "movdqu %%xmm1, 16(%0)\n\t"
        "movdqu %%xmm2, -32(%0,%2)\n\t"
        "movdqu %%xmm3, -16(%0,%2)\n" SHUNT_COPY_FIXUP_ENTRY
        :
        : "r"(dst), "r"(src), "r"(n)
        : "xmm0", "xmm1", "xmm2", "xmm3", "memory"
        : fault);
  }
  return true;
fault:
  return false;
}
#undef SHUNT_COPY_FIXUP_ENTRY

}  // namespace shunt
