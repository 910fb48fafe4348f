// Why: the element-wise non-linearities of the model. GELU is the exact erf form used by BERT and
// RoBERTa (not the tanh approximation), so weights trained elsewhere behave the same here.
#pragma once

#include <span>
#include <string_view>

namespace diffuser::nn {

/// Element-wise activation functions.
///  kGelu: gelu(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))   (Hendrycks & Gimpel 2016,
///         exact form as in RoBERTa / PyTorch's nn.GELU() default),
///  kRelu: max(x, 0) (derivative 0 at x = 0),
///  kTanh: tanh(x) (RoBERTa's classification-head non-linearity).
enum class Activation { kGelu, kRelu, kTanh };

/// "gelu", "relu", "tanh".
std::string_view to_string(Activation a);

/// Parses "gelu" / "relu" / "tanh"; throws diffuser::Error naming the value otherwise.
Activation parse_activation(std::string_view name);

/// y = gelu(x) element-wise; x and y have the same size (y may alias x).
template <typename T>
void gelu_forward(std::span<const T> x, std::span<T> y);

/// dx = dy * gelu'(x), gelu'(x) = Phi(x) + x phi(x) with phi the standard normal density.
/// dx overwritten; it may alias dy.
template <typename T>
void gelu_backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx);

/// y = f(x) element-wise (y may alias x).
template <typename T>
void activation_forward(Activation a, std::span<const T> x, std::span<T> y);

/// dx = dy * f'(x). Needs the forward input x (GELU, ReLU) and output y (tanh: f' = 1 - y^2);
/// dx overwritten, may alias dy. All four spans have the same size.
template <typename T>
void activation_backward(Activation a, std::span<const T> x, std::span<const T> y,
                         std::span<const T> dy, std::span<T> dx);

}  // namespace diffuser::nn
