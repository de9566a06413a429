/* What pam_pyutmp.native asks of libpam beyond its own calls. */
#include "pyutmp_pam.h"

void pyutmp_pam_items(const pam_handle_t *pamh, const int *types, size_t count,
                      const char **out)
{
    for (size_t i = 0; i < count; i++) {
        const void *item = NULL;

        out[i] = pam_get_item(pamh, types[i], &item) == PAM_SUCCESS ? item : NULL;
    }
}
