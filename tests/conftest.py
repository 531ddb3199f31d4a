import pytest
import torch

from tests.browser import CHROMIUM, CHROMIUM_ARGS, served

# The tests pool tiny tensors, where torch's intra-op threads only compete with each other.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def app_url():
    with served() as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args():
    return {"viewport": {"width": 1400, "height": 1000}}
