"""Exceptions raised by the MNIST reader and fetcher."""


class MnistError(ValueError):
    """A file is not valid IDX data, or its content fails the SHA-256 check.

    The message names the file and says what is wrong with it.
    """


class MnistNotFoundError(FileNotFoundError):
    """The MNIST files are not where they were looked for and could not be fetched.

    The message says where to put the four files. ``attempts`` lists, one string
    per try, why each source failed (empty when nothing was tried).
    """

    def __init__(self, message, attempts=()):
        super().__init__(message)
        self.attempts = list(attempts)

    def __str__(self):
        # FileNotFoundError would otherwise print "[Errno ...]" style text.
        return self.args[0]
