import pytest

import loyalty
from support import policy_path


@pytest.fixture(scope="session")
def apparel() -> loyalty.Policy:
    return loyalty.Policy.from_file(policy_path("apparel.yaml"))


@pytest.fixture(scope="session")
def grocery() -> loyalty.Policy:
    return loyalty.Policy.from_file(policy_path("grocery.yaml"))


@pytest.fixture(scope="session")
def minimal() -> loyalty.Policy:
    return loyalty.Policy.from_file(policy_path("minimal.yaml"))
