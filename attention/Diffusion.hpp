// Why: experiments/ still names attention::Diffusion; the type lives in core/Diffusion.hpp.
#pragma once

#include "core/Diffusion.hpp"

// Transitional: removed when experiments/ moves to core/Diffusion.hpp
namespace diffuser::attention {
using Diffusion = ::diffuser::Diffusion;
}
