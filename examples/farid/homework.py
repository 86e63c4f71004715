# my homework
import numpy as np
