// Marks a definition of the public C API as exported from libshunt.so (the
// library builds with hidden visibility by default).
#pragma once

#define SHUNT_EXPORT __attribute__((visibility("default")))
