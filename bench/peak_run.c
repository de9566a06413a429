/* peak_run RESULT COMMAND [ARG...]: run COMMAND, then write "<ru_maxrss KiB> <wait status>"
 * to the file RESULT and exit as COMMAND did.
 *
 * Why not os.wait4 in the benchmark itself: a child's ru_maxrss starts from its parent's
 * memory.  fork() copies the parent's resident pages, vfork() and posix_spawn() share the
 * parent's memory until exec, and exec keeps the old memory's high-water mark in the
 * process's ru_maxrss.  A Python parent that made a million records would lend every
 * reader tens of MiB.  This program is small, so the COMMAND it forks starts from about
 * its own few hundred KiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: peak_run RESULT COMMAND [ARG...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak_run: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("peak_run: exec");
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("peak_run: wait4");
        return 2;
    }
    FILE *result = fopen(argv[1], "w");
    if (result == NULL || fprintf(result, "%ld %d\n", usage.ru_maxrss, status) < 0
        || fclose(result) != 0) {
        perror("peak_run: result");
        return 2;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
