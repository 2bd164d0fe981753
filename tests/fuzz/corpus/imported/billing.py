 from billing.invoice import Invoice, total as invoice_total
import numpy as np
import os.path
from . import utils
from .models import (
    Order,
    Customer,
)

def price(order: Order) -> float:
    return invoice_total(Invoice(order)) * np.float64(1.2)

utils.