# A stand-in for the `openai` Python package, which Debian does not ship and which cannot be
# installed here. llama.cpp's server tests import it at module level, so without it whole files
# fail to load. With this stand-in the files load, and each test that really uses the client fails
# on construction, on llama-server and Hearth alike, so it counts for neither.


class OpenAI:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("the openai package is not installed here (test/compat/python-stubs stands in for it)")


class AsyncOpenAI(OpenAI):
    pass
