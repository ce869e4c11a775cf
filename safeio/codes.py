"""Exit codes: one meaning each, the same in every script (the README lists them)."""

EXIT_OK = 0             # the job is done
EXIT_FAILED = 1         # could not do the job: disk full, unwritable, damaged data not named
                        # by an argument, a data set that cannot be found
EXIT_USAGE = 2          # bad usage: an argument, or the file or folder it names, is unusable
EXIT_DIVERGED = 3       # train.py: the run diverged (a non-finite loss; the checkpoint is kept)
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM (128 + SIGINT, what a shell reports for Ctrl-C)
EXIT_PIPE_CLOSED = 141  # the reader of stdout went away (128 + SIGPIPE), e.g. `| head`
