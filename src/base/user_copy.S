/* CopyUser: memcpy that survives a fault on either side (x86-64 only).
 *
 * size_t shunt_copy_user(void *dst, const void *src, size_t n)
 * returns 0 when all n bytes were copied, else a nonzero count of bytes
 * that may not have been (callers only test for zero).
 *
 * Like the kernel's copy_to_user/copy_from_user: the SIGSEGV/SIGBUS handler
 * in user_copy.cc recognises a fault whose instruction pointer lies inside
 * this function and resumes at shunt_copy_user_fixup, which returns the
 * count still in %rdx. Invariant for that: at every instruction that can
 * fault, %rdx is nonzero and counts at least the bytes not yet copied (for
 * `rep movsb`, %rcx does; the handler moves it to %rdx).
 *
 * CopyUser (user_copy.h) copies 16 to 64 bytes inline and calls this for
 * the other sizes: 8 to 15 bytes take two overlapping moves, fewer a byte
 * loop; larger copies loop over 64-byte blocks (then 16-byte ones and
 * bytes), and from 512 bytes `rep movsb` takes over. Any size is correct.
 */
    .text
    .globl shunt_copy_user
    .hidden shunt_copy_user
    .type shunt_copy_user, @function
    .globl shunt_copy_user_begin
    .hidden shunt_copy_user_begin
    .globl shunt_copy_user_end
    .hidden shunt_copy_user_end
    .globl shunt_copy_user_rep
    .hidden shunt_copy_user_rep
    .globl shunt_copy_user_fixup
    .hidden shunt_copy_user_fixup
shunt_copy_user:
shunt_copy_user_begin:
    cmpq $16, %rdx
    jae 7f
    cmpq $8, %rdx
    jb 2f
    movq (%rsi), %rax                   /* 8..15 bytes */
    movq -8(%rsi,%rdx), %rcx
    movq %rax, (%rdi)
    movq %rcx, -8(%rdi,%rdx)
    xorl %eax, %eax
    ret
7:  cmpq $512, %rdx
    jae 4f
0:  cmpq $64, %rdx
    jb 1f
    movdqu (%rsi), %xmm0
    movdqu 16(%rsi), %xmm1
    movdqu 32(%rsi), %xmm2
    movdqu 48(%rsi), %xmm3
    movdqu %xmm0, (%rdi)
    movdqu %xmm1, 16(%rdi)
    movdqu %xmm2, 32(%rdi)
    movdqu %xmm3, 48(%rdi)
    addq $64, %rsi
    addq $64, %rdi
    subq $64, %rdx
    jmp 0b
1:  cmpq $16, %rdx
    jb 2f
    movdqu (%rsi), %xmm0
    movdqu %xmm0, (%rdi)
    addq $16, %rsi
    addq $16, %rdi
    subq $16, %rdx
    jmp 1b
2:  testq %rdx, %rdx
    jz 3f
    movb (%rsi), %al
    movb %al, (%rdi)
    incq %rsi
    incq %rdi
    decq %rdx
    jmp 2b
3:  xorl %eax, %eax
    ret
4:  movq %rdx, %rcx
shunt_copy_user_rep:
    rep movsb
    xorl %eax, %eax
    ret
shunt_copy_user_fixup:
    movq %rdx, %rax
    ret
shunt_copy_user_end:
    .size shunt_copy_user, .-shunt_copy_user
    .section .note.GNU-stack,"",@progbits
