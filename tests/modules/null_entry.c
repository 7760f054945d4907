/**
 * @file tests/modules/null_entry.c
 * @short Broken module: rv_module_entry returns NULL (RV_ELOAD_ENTRY).
 */
#include "stub_ops.h"

RV_MODULE_EXPORT const rv_module_info *rv_module_entry(void);
RV_MODULE_EXPORT const rv_module_info *rv_module_entry(void)
{
    return NULL;
}
