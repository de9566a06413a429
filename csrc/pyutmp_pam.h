/* What pam_pyutmp.native asks of libpam beyond its own calls. */
#ifndef PYUTMP_PAM_H
#define PYUTMP_PAM_H

#include <stddef.h>

#include <security/pam_modules.h>

/* The string items of the given types in one call (a call into C costs a
 * Python session more than the lookups): out[i] is item types[i], or NULL
 * when it is unset or libpam does not give it. */
void pyutmp_pam_items(const pam_handle_t *pamh, const int *types, size_t count,
                      const char **out);

#endif
