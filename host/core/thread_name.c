/**
 * @file host/core/thread_name.c
 * @short thread_name_self (see thread_name.h).
 */
#include "core/thread_name.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

void thread_name_self(const char *fmt, ...)
{
    char name[16]; /* 15 bytes and the NUL: TASK_COMM_LEN */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    (void)pthread_setname_np(pthread_self(), name);
}

void thread_name_get(char out[16])
{
    if (pthread_getname_np(pthread_self(), out, 16) != 0)
        out[0] = '\0';
}
