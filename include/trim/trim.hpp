#pragma once
/// \file
/// Umbrella header: everything public in trim.

#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/rng.hpp"
#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/graph.hpp"
#include "trim/graph/kind.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/op.hpp"
#include "trim/train/loss.hpp"
#include "trim/train/optimizer.hpp"
#include "trim/train/trainer.hpp"
