"""What the carrier gateway's handlers are given: database and clock, EMS and evidence's intake, the court's return address, the push secret and how scans are tried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.carrier_gateway.adapters.ems.client import Carrier
from services.carrier_gateway.adapters.ems.mapper import Sender
from services.carrier_gateway.adapters.evidence import Evidence
from services.carrier_gateway.domain import ScanPolicy
from shared.plumbing.runtime import Deps, get_deps


@dataclass(frozen=True)
class CarrierGatewayDeps(Deps):
    ems: Carrier
    evidence: Evidence
    sender: Sender
    # The secret EMS signs its trace pushes with.
    push_secret: str
    scans: ScanPolicy


DepsDep = Annotated[CarrierGatewayDeps, Depends(get_deps)]
