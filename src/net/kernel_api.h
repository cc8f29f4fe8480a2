// struct shunt_socket: the handle of the kernel-style C interface.
#pragma once

// Declares the C API first: defining the struct before the function of the
// same name is declared would make GCC's -Wshadow object.
#include <shunt/shunt.h>

#include "arena/arena.h"

// One reference on an arena OpenFile, owned by whoever holds the handle;
// shunt_sock_release drops it and frees the handle.
struct shunt_socket {
  shunt::Arena* arena;
  shunt::Off file;
};

// The name `shunt_socket` is also a function of the C API; C++ code names
// the handle type through this alias.
typedef struct shunt_socket ShuntSocketHandle;
